"""E-mail authenticity evidence: the vault's offline archive of DKIM keys, and re-checking mail.

The workstation is offline, so the DKIM public keys of the domains that signed leaked mail are
collected beforehand (`selector._domainkey.domain TXT-value` lines) and imported. Whoever controls
this archive decides what "pass" means, so importing keys needs `change-policy`, like any other
vault-wide rule of evidence, and is audited with the archive's digest, which `vault check` and
`check_mail` compare with the archive in `vault.db` (any member could write it directly).
Check-in checks mail against the archive; after an import, `check_mail` re-checks mail already
in the vault.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from vault.audit import JSONValue
from vault.catalog.models import Document, Setting
from vault.errors import IntegrityError, Refused
from vault.review.dkim import parse_key_archive, verify
from vault.review.extract_model import MAX_DOCUMENT_BYTES
from vault.service import freshness
from vault.service.authorize import authorize, permitted
from vault.service.context import Context
from vault.service.freshness import dkim_digest
from vault.service.indexing import DKIM_SETTING, dkim_archive, is_mail


def import_keys(ctx: Context, text: str) -> int:
    """Merge archived DKIM key records into the vault's archive; returns how many it now holds.

    Raises:
        UsageError: a malformed line (named by its number); nothing is imported.
        PolicyDenied: the member may not change the vault's rules of evidence.
    """
    incoming = parse_key_archive(text)
    authorize(ctx, "change-policy")
    merged = dkim_archive(ctx).merge(incoming)
    text = merged.to_text()
    details: dict[str, JSONValue] = {
        "records": len(incoming),
        "total": len(merged),
        "digest": dkim_digest(text),
    }
    with ctx.lock:
        intent = ctx.audit("dkim-import", "", details)
        with Session(ctx.db) as session:
            session.merge(Setting(key=DKIM_SETTING, value=text))
            session.commit()
        freshness.confirm(ctx, "dkim-import", "", intent)
    return len(merged)


def check_mail(ctx: Context, collection: str | None = None) -> dict[str, int]:
    """Re-check every e-mail the member can read against the archive; returns counts by result.

    Raises:
        IntegrityError: the archive is not the one the audit log last recorded importing.
        Refused: an import was interrupted before `vault.db` held it.
    """
    found = freshness.dkim_disagreement(ctx, freshness.scan(ctx))
    if found is not None:
        error = IntegrityError if found.rolled_back else Refused
        raise error(f"{found.where} {found.message}", hint="import the keys again")
    archive = dkim_archive(ctx)
    chosen = [ctx.find_collection(collection)] if collection else list(ctx.readable_collections())
    counts: dict[str, int] = {}
    for opened in chosen:
        if not permitted(ctx, "read", collection_cid=opened.cid):
            continue
        ctx.audit("dkim-check", opened.cid)
        keys = opened.secret.object_keys
        with Session(opened.catalog) as session:
            mail = [
                d
                for d in session.exec(select(Document))
                if is_mail(d.mime, d.name) and d.size <= MAX_DOCUMENT_BYTES
            ]
            for doc in mail:
                data = b"".join(ctx.store.read(doc.oid, size=doc.size, keys=keys))
                result = verify(data, archive, now=ctx.clock.now())
                session.execute(
                    update(Document)
                    .where(col(Document.oid) == doc.oid)
                    .values(dkim=result.status, dkim_detail=result.detail)
                )
                counts[result.status] = counts.get(result.status, 0) + 1
            session.commit()
    return counts
