"""Full-text search over every collection the member can read (FTS5, ranked by bm25).

The index lives inside each collection's encrypted catalog, so searching needs the collection's
key: a member finds only what they could read. Searching is audited, query included (audit
bodies are encrypted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from vault.catalog.models import Document
from vault.errors import UsageError
from vault.service.authorize import authorize, permitted
from vault.service.context import Context
from vault.service.reading import DocumentView, Filter, document_view, tags_of

_WORD = re.compile(r"\w+")
_OPERATORS = {"AND", "OR", "NOT", "NEAR"}

# Names weigh more than body text: a document called "ledger" is what "ledger" most likely means.
_SQL = (
    "SELECT document_text.oid, snippet(document_text, 2, '«', '»', '…', 14),"
    " bm25(document_text, 0.0, 4.0, 1.0) AS score"
    " FROM document_text WHERE document_text MATCH ? ORDER BY score LIMIT ?"
)


def _match(query: str) -> str:
    """Plain words also match as a phrase, so a document holding them together ranks first."""
    words = query.split()
    if len(words) < 2 or any(not _WORD.fullmatch(w) or w in _OPERATORS for w in words):
        return query  # the searcher wrote FTS5 syntax: take it as written
    joined = " ".join(words)
    return f'"{joined}" OR ({joined})'


@dataclass(frozen=True)
class SearchHit:
    """One match: the document, a snippet around the match, and its rank (lower is better)."""

    document: DocumentView
    snippet: str
    score: float


def search(
    ctx: Context,
    query: str,
    *,
    collection: str | None = None,
    where: Filter | None = None,
    limit: int = 50,
) -> list[SearchHit]:
    """Search document names and text.

    Args:
        query: FTS5 query syntax: words, "exact phrases", OR, NOT, prefix*.
        collection: only this collection.
        where: status, flag, type and tag filters as in `ls`.
        limit: most hits returned.

    Raises:
        UsageError: an empty or malformed query.
    """
    if not query.strip():
        raise UsageError("search for what?", hint='give words, or an "exact phrase"')
    where = where or Filter()
    if collection:
        chosen = [ctx.find_collection(collection)]
        authorize(ctx, "search", collection_cid=chosen[0].cid)
    else:
        chosen = [
            c for c in ctx.readable_collections() if permitted(ctx, "search", collection_cid=c.cid)
        ]
    ctx.audit("search", ",".join(c.cid for c in chosen), {"query": query})
    hits: list[SearchHit] = []
    for opened in chosen:
        with Session(opened.catalog) as session:
            try:
                rows = session.connection().exec_driver_sql(_SQL, (_match(query), limit * 4)).all()
            except OperationalError:
                raise UsageError(
                    f"cannot understand the search {query!r}",
                    hint='quote phrases ("wire transfer"), and use OR, NOT, prefix* as words',
                ) from None
            tags = tags_of(session, [str(r[0]) for r in rows])
            for oid, snippet, score in rows:
                doc = session.get(Document, oid)
                if doc is None or not where.matches(doc, tags.get(oid, ())):
                    continue
                # A snippet is one line: the line breaks of the text mean nothing out of context.
                line = " ".join(str(snippet).split())
                hits.append(SearchHit(document_view(opened, doc, tags.get(oid, ())), line, score))
    hits.sort(key=lambda hit: hit.score)
    return hits[:limit]
