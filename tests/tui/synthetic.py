"""Synthetic document rows, to load the browser without a vault."""

from __future__ import annotations

import hashlib

from vault.service import DocumentView

STATUSES = ("unverified", "in-review", "authentic", "disputed", "forged")
TYPES = ("application/pdf", "message/rfc822", "text/plain", "image/jpeg")


def documents(count: int, collection: str = "bench") -> list[DocumentView]:
    """`count` plausible rows, named doc-000000.pdf onwards, in name order."""
    rows = []
    for index in range(count):
        oid = hashlib.sha256(index.to_bytes(8, "big")).hexdigest()
        rows.append(
            DocumentView(
                oid=oid,
                collection=collection,
                name=f"doc-{index:06}.pdf",
                size=1024 + index,
                sha256=oid,
                mime=TYPES[index % len(TYPES)],
                status=STATUSES[index % len(STATUSES)],
                flags=("executable",) if index % 97 == 0 else (),
            )
        )
    return rows
