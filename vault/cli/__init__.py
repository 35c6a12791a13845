"""The `vault` command: parse, call `vault.service`, print, map errors to exit codes.

Data goes to standard output (one JSON document with `--json`); diagnostics go to standard
error as `vault: error: …` with a `vault: hint: …` line where one helps. Exit codes (DESIGN §11):
0 ok · 1 failed · 2 usage · 3 refused · 4 integrity failure · 5 bad credentials.
"""

import gc
from typing import NoReturn

# Importing the service and its libraries makes well over 100,000 objects that live as long as the
# command: the cyclic collector would walk them again and again while they load (a seventh of
# the start-up) and at every full collection after. So it waits, and then leaves them be.
_collecting = gc.isenabled()
gc.disable()
try:
    from vault.cli import (  # noqa: F401 - registers commands
        admin,
        demo,
        embargo,
        material,
        policy,
        release,
        review,
        tui,
        verification,
    )
    from vault.cli.root import cli, run
finally:
    gc.freeze()
    if _collecting:
        gc.enable()


def main() -> NoReturn:
    """Entry point of the `vault` console script."""
    run(cli)
