"""Loaded by every Python process of a no-network test run (through PYTHONPATH).

Installs an audit hook that records any socket event to the file named by VAULT_NONET_LOG and
then refuses it, so a test can prove no process of the vault — the command and its spawned
detection workers alike — ever touches the network.
"""

import os
import sys

_LOG = os.environ.get("VAULT_NONET_LOG")


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event.startswith("socket.") and _LOG:
        with open(_LOG, "a") as log:
            log.write(f"{os.getpid()} {event} {sys.argv[:2]!r}\n")
        raise PermissionError(f"network access during a no-network test: {event}")


if _LOG:
    sys.addaudithook(_hook)
