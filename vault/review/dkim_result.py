"""What DKIM verification says of one message, apart from the verifier that says it.

The vault's process reads results on every check-in and `show`; only messages that carry a
signature need the verifier (`vault.review.dkim_signature`, which loads dkimpy and dnspython).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DkimStatus = Literal["pass", "fail", "body-altered", "key-missing", "no-signature", "error"]


@dataclass(frozen=True)
class DkimResult:
    """What the DKIM signatures on one message prove.

    Attributes:
        status: see `vault.review.dkim`.
        domain: the signing domain (d=) of the signature reported, escaped; None if none was read.
        selector: its selector (s=), escaped; None if none was read.
        detail: a short explanation for a person, escaped.
    """

    status: DkimStatus
    domain: str | None
    selector: str | None
    detail: str
