"""The drawing process of a batch job (``train --sections``): it draws each trained section's
report while the training process goes on with the next section.

The process is started fresh (``spawn``: never a fork of a process running TensorFlow's threads),
imports matplotlib and the report code, not TensorFlow, and ends with the job, even on ``kill -9``
(:func:`~vae_genomics.common.children.spawn_pool`). If it dies (killed, out of memory) the
next report starts a new one, and each report it held is handed to the new one once
(``train_sections._settle``; lost twice, that section fails); an interrupted job stops it without
waiting for the report it is drawing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from vae_genomics.common.children import spawn_pool

log = logging.getLogger(__name__)

#: What a section whose drawing process died is told.
DIED = (
    "the job's drawing process, which draws each section's report, ended unexpectedly "
    "(killed, e.g. out of memory)"
)


def draw_report(arguments: dict[str, Any]) -> Path:
    """Draw one report: ``write_section_report(**arguments)``."""
    from vae_genomics.report.build import write_section_report

    return write_section_report(**arguments)


class DrawingProcess:
    """One worker process for a batch job's reports, started again if it died."""

    def __init__(self) -> None:
        self._pool = spawn_pool(1)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """``fn(*args)`` in the process (a new one if the last one died)."""
        try:
            return self._pool.submit(fn, *args)
        except BrokenProcessPool:
            log.warning("%s; starting a new one for the next section", DIED)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = spawn_pool(1)
            return self._pool.submit(fn, *args)

    def stop(self) -> None:
        """End the process now, without waiting for the report it is drawing (an interrupted
        job)."""
        # ProcessPoolExecutor.terminate_workers() arrives with Python 3.14
        processes = getattr(self._pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.terminate()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Stop the process (``ProcessPoolExecutor.shutdown``)."""
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
