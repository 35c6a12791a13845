"""A detection function that kills its own worker on one file name (for crash tests).

It must live in an importable module: detection workers are spawned and import it by name.
"""

from __future__ import annotations

import os
import signal

from vault.ingest.detect import Detection, Sample, analyse

CRASH_NAME = "crash-me.txt"


def crash_on_name(sample: Sample) -> Detection:
    """Detect normally, except that the sample named CRASH_NAME kills the worker."""
    if sample.name == CRASH_NAME:
        os.kill(os.getpid(), signal.SIGSEGV)
    return analyse(sample)
