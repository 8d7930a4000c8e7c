"""Loaded into a test's worker only (``celery worker -I tests.fault_hooks``): the first payroll
generation to reach its second step stops there, its process id in ``$FAULT_DIR/paused``,
until the test kills it; later runs pass through. Every run leaves its process id in
``$FAULT_DIR/entered``."""

import os
import time
from pathlib import Path

from payments import generation

DIRECTORY = Path(os.environ["FAULT_DIR"])
_second_step = generation._reissues


def _paused_once(payroll):
    with open(DIRECTORY / "entered", "a") as entered:
        entered.write(f"{os.getpid()}\n")
    paused = DIRECTORY / "paused"
    if not paused.exists():
        paused.write_text(str(os.getpid()))
        time.sleep(120)
        raise RuntimeError("the test was to kill this process")
    return _second_step(payroll)


generation._reissues = _paused_once
