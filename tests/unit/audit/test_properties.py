"""Property tests: random histories verify and read back; any single flipped byte is caught."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.audit import Checkpoint, JSONValue
from vault.errors import IntegrityError

from .helpers import T0, VAULT_ID, Members, open_log

MEMBERS = Members.of("alice", "bob", "carol")

json_values: st.SearchStrategy[JSONValue] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
records = st.fixed_dictionaries({
    "actor": st.sampled_from(sorted(MEMBERS.keys)),
    "action": st.text(max_size=20),
    "target": st.text(max_size=40),
    "details": st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    "at": st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.just(UTC)),
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=st.lists(records, min_size=1, max_size=5), flip=st.integers(min_value=0),
       mask=st.integers(min_value=1, max_value=255))
def test_histories_verify_and_any_flip_is_caught(
    history: list[dict[str, object]], flip: int, mask: int
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "audit.log"
        log = open_log(path)
        for record in history:
            actor = record["actor"]
            assert isinstance(actor, str)
            log.append(signer=MEMBERS.keys[actor], **record)  # type: ignore[arg-type]

        report = log.verify(MEMBERS.public_key_of)
        assert (report.ok, report.entries, report.head) == (True, len(history), log.head())
        for entry, record in zip(log.entries(), history, strict=True):
            assert (entry.actor, entry.action, entry.target, entry.at, dict(entry.details)) == (
                record["actor"], record["action"], record["target"], record["at"],
                record["details"])

        checkpoint = Checkpoint.sign(log.head(), vault_id=VAULT_ID, at=T0 + timedelta(days=1),
                                     signer="alice", key=MEMBERS.keys["alice"])
        data = bytearray(path.read_bytes())
        data[flip % len(data)] ^= mask
        path.write_bytes(bytes(data))
        assert not log.verify(MEMBERS.public_key_of).ok
        assert not log.verify(checkpoint=checkpoint).ok
        with contextlib.suppress(IntegrityError):
            log.repair_torn_tail()
        assert path.read_bytes() == bytes(data)
