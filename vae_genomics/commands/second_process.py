"""The second process of a batch job (``train --sections``): it evaluates each trained section and
draws its report while the training process goes on with the next section (or only draws, where
the evaluation stays in the training process: with a GPU, or one thread; :func:`spare_core`).

The process is started fresh (``spawn``: never a fork of a process running TensorFlow's threads)
and ends with the job, even on ``kill -9`` (:func:`~vae_genomics.common.children.spawn_pool`).
To evaluate, it loads the staged ``model.keras`` with the trained model's XLA setting and runs
with the job's thread count, so its numbers are those of an evaluation in the training process
to the last digit (``tests/test_batch.py``). To only draw, it imports matplotlib and the report
code, not TensorFlow. If it dies (killed, out of memory) the sections it held fail and the next
section starts a new one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from vae_genomics.common.children import spawn_pool
from vae_genomics.run.directory import MODEL_FILE

log = logging.getLogger(__name__)

#: What a section whose second process died is told.
DIED = (
    "the job's second process, which evaluates and draws each section, ended unexpectedly "
    "(killed, e.g. out of memory: a batch job holds a trained section and the next one at once)"
)


def draw_report(arguments: dict[str, Any]) -> Path:
    """Draw one report: ``write_section_report(**arguments)``."""
    from vae_genomics.report.build import write_section_report

    return write_section_report(**arguments)


def evaluate_and_draw(fitted: Any) -> dict[str, Any]:
    """Evaluate a staged section and draw its report.

    Args:
        fitted: The section's :class:`~vae_genomics.commands.train_section.FittedSection`.

    Returns:
        What its ``metrics.json`` holds.
    """
    import keras

    from vae_genomics.commands.train_section import evaluate_fitted
    from vae_genomics.run.load import load_model

    model = load_model(fitted.out / MODEL_FILE)
    model.jit_compile = fitted.jit_compile  # the trained model's likelihood graph, digit for digit
    metrics, report = evaluate_fitted(fitted, model)
    draw_report(report)
    del model
    keras.backend.clear_session()  # the next section's model starts a fresh graph
    return metrics


def _start_evaluating(threads: int, level: int) -> None:
    """Initializer of an evaluating process: the job's threads and log level, TensorFlow
    imported quietly."""
    from vae_genomics.common.logs import import_tensorflow_quietly
    from vae_genomics.train.threads import limit_threads

    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s [evaluation] %(message)s", datefmt="%H:%M:%S"
    )
    import_tensorflow_quietly()
    limit_threads(threads)


class SecondProcess:
    """One worker process for a batch job's evaluations and reports, started again if it died.

    Args:
        evaluate: It evaluates sections (TensorFlow, ``threads``); else it only draws reports.
        threads: The job's TensorFlow intra-op threads (0: the default).
    """

    def __init__(self, evaluate: bool, threads: int) -> None:
        self.evaluate = evaluate
        self.threads = threads
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        if not self.evaluate:
            return spawn_pool(1)
        level = logging.getLogger().getEffectiveLevel()
        return spawn_pool(1, _start_evaluating, (self.threads, level))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """``fn(*args)`` in the process (a new one if the last one died)."""
        try:
            return self._pool.submit(fn, *args)
        except BrokenProcessPool:
            log.warning("%s; starting a new one for the next section", DIED)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
            return self._pool.submit(fn, *args)

    def stop(self) -> None:
        """End the process now, without waiting for what it is doing (an interrupted job: a
        section's evaluation may take a minute, more than a scheduler's grace period)."""
        # ProcessPoolExecutor.terminate_workers() arrives with Python 3.14
        processes = getattr(self._pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.terminate()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Stop the process (``ProcessPoolExecutor.shutdown``)."""
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def job_threads() -> int:
    """This process's TensorFlow intra-op threads (``runtime.threads``; 0: the default)."""
    import tensorflow as tf

    return int(tf.config.threading.get_intra_op_parallelism_threads())


def spare_core(threads: int) -> bool:
    """Whether a job of ``threads`` threads (0: every core it may run on) has a core the fit
    leaves idle for the evaluation.

    A fit of a small section keeps about one core busy whatever its threads, so a job of two or
    more has one to spare. A one-thread job has none: its scheduler gives it one core, and the
    local workflow runs one such job per core, so a second process evaluating beside the fit only
    slows it (the simulated chromosome's first jobs, two one-thread jobs on two cores, took 22%
    longer each; BENCHMARKS.md, "Sections per job").
    """
    if threads <= 0:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return threads >= 2


def gpu_visible() -> bool:
    """Whether TensorFlow sees a GPU in this process."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))
