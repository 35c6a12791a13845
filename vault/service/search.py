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

from vault.errors import UsageError
from vault.service.authorize import authorize, permitted
from vault.service.context import Context
from vault.service.reading import VIEW_COLUMNS, DocumentView, Filter, tags_of, view_of_row

_WORD = re.compile(r"\w+")
_OPERATORS = {"AND", "OR", "NOT", "NEAR"}

# Names weigh more than body text: a document called "ledger" is what "ledger" most likely means.
# Ranking by FTS5's own `rank` lets it sort the matches itself and stop at the limit, so snippets
# are made for the rows returned only; the document's columns come in the same query.
_SQL = (
    f"SELECT {', '.join('document.' + c for c in VIEW_COLUMNS)},"  # noqa: S608 - constant names
    " snippet(document_text, 2, '«', '»', '…', 14), rank"
    " FROM document_text JOIN document ON document.oid = document_text.oid"
    " WHERE document_text MATCH ? AND rank MATCH 'bm25(0.0, 4.0, 1.0)'"
    " ORDER BY rank LIMIT ?"
)
_FILTERED_SHARE = 4  # with a filter, this many times the limit are ranked, to keep enough


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
    wanted = limit if where.empty else limit * _FILTERED_SHARE
    for opened in chosen:
        with Session(opened.catalog) as session:
            try:
                rows = session.connection().exec_driver_sql(_SQL, (_match(query), wanted)).all()
            except OperationalError:
                raise UsageError(
                    f"cannot understand the search {query!r}",
                    hint='quote phrases ("wire transfer"), and use OR, NOT, prefix* as words',
                ) from None
            tags = tags_of(session, [str(r[0]) for r in rows])
            for row in rows:
                view = view_of_row(opened, row, tags.get(row[0], ()))
                if not where.accepts(view):
                    continue
                # A snippet is one line: the line breaks of the text mean nothing out of context.
                line = " ".join(str(row[-2]).split())
                hits.append(SearchHit(view, line, float(row[-1])))
    hits.sort(key=lambda hit: hit.score)
    return hits[:limit]
