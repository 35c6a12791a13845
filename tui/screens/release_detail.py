"""`RequestDetail`: one release request in full, as the release queue shows it for review.

Every field of the signed request: collection, documents (by id, with their names when the
member holds the collection), reason, destination, not-before (local time, UTC and a countdown),
expiry, requester, the approvals counted so far with the approvers' roles, and, for a request
still waiting for approvals, the rules that hold it as the policies word them. Every string from
the vault is escaped (`tui.widgets.safe`) and the whole is plain text, never markup.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.messages.releases import ReleaseDetail, local_time
from tui.widgets.safe import safe_text
from vault.policy.embargo import due_in

LABEL = 12


def _field(label: str, *value: Text | str) -> Text:
    return Text.assemble((label.ljust(LABEL), "bold"), *value)


def _member(detail: ReleaseDetail, name: str) -> Text:
    roles = detail.roles.get(name, ())
    return Text.assemble(safe_text(name), f" ({', '.join(roles) or 'removed'})")


def _when(instant: datetime, now: datetime) -> str:
    utc = instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{local_time(instant)} · {utc} · {due_in(instant, now)}"


def describe_request(detail: ReleaseDetail, collection: str, now: datetime) -> Text:
    """The request as lines of safe text; `collection` is its (already chosen) display name."""
    view, request = detail.view, detail.request
    approvals = [_member(detail, name) for name in view.approvers]
    lines = [
        Text.assemble(("Release request ", "bold"), (view.id, "bold"), f" · {view.status}"),
        _field("collection", safe_text(collection), f"  (id {request.collection})"),
        _field(
            "requester",
            _member(detail, request.requester),
            f", asked {local_time(request.created)}",
        ),
        _field("reason", safe_text(request.reason)),
        _field("destination", safe_text(request.destination)),
        _field("not before", _when(request.not_before, now)),
        _field("expires", _when(request.expires, now) if request.expires else "never"),
        _field("approvals", Text(", ").join(approvals) if approvals else "none counted yet"),
    ]
    if view.bundle:
        lines.append(_field("bundle", safe_text(view.bundle)))
    for note in detail.asks:
        lines.append(_field("the policy", safe_text(note)))
    lines.append(
        _field("audit head", f"entry {request.checkpoint_seq}, {request.checkpoint_digest[:16]}…")
    )
    lines.append(Text(f"documents ({len(request.documents)})", style="bold"))
    for oid in request.documents:
        name = detail.names.get(oid)
        lines.append(
            Text.assemble("  ", safe_text(name) if name else ("(name not readable)", "dim"))
        )
        lines.append(Text(f"    {oid}", style="dim"))
    return Text("\n").join(lines)


class RequestDetail(VerticalScroll, can_focus=True):
    """A scrolling view of one request."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.detail: ReleaseDetail | None = None
        self.collection = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="release-detail-body", markup=False)

    def show(self, detail: ReleaseDetail, collection: str, now: datetime) -> None:
        """Show a request (`collection` is its display name)."""
        self.detail, self.collection = detail, collection
        self.tick(now)

    def tick(self, now: datetime) -> None:
        """Redraw with the countdowns at `now`."""
        body = self.query_one("#release-detail-body", Static)
        if self.detail is None:
            body.update("")
        else:
            body.update(describe_request(self.detail, self.collection, now))

    def forget(self) -> None:
        """Drop the request shown."""
        self.detail = None
        self.query_one("#release-detail-body", Static).update("")
