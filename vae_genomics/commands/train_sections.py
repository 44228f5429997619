"""Several sections trained in one job: one start-up, reports drawn while the next section trains.

A section job spends seconds outside its fit: starting Python and TensorFlow, loading the section,
evaluating the model and drawing the report's figures (``BENCHMARKS.md``, "Job overhead"). On a
cluster most of that is paid again by every job. :func:`train_sections` trains sections one after
the other in one process, so the start-up is paid once, and hands each finished section's report
to a drawing process that works while the next section trains (the fit leaves CPU time free;
the figures need neither TensorFlow nor the model). A section's run directory is committed when
its report is written, so each run appears complete or not at all, as with one section per job.

A section that fails (bad data, a run that already exists, a diverged fit) does not stop the
others; the failures are raised together at the end (:class:`~vae_genomics.common.errors.RunError`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vae_genomics.commands.drawing_process import DIED, DrawingProcess, draw_report
from vae_genomics.common.errors import RunError, VaeGenomicsError
from vae_genomics.run.directory import (
    LATEST,
    METRICS_FILE,
    MODEL_FILE,
    model_file_problem,
    resolve_run_dir,
)

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What a batch job did.

    Attributes:
        trained: Section name → run directory, for the sections trained and committed.
        skipped: Section name → the finished run left in place (``skip_existing``).
        failed: Section name → the error's message.
        seconds: Section name → wall seconds from the start of its load to its commit.
    """

    trained: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, Path] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class _Pending:
    """A staged section waiting for its report: the report's future, the section's start time,
    and whether its report was handed to a new drawing process already."""

    staged: Any
    future: Future[Path]
    started: float
    redrawn: bool = False


class _NoRetracingWarning(logging.Filter):
    """Drop TensorFlow's "triggered tf.function retracing" warning: every section builds a new
    model, so its functions are traced anew by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def _drawing_pool() -> DrawingProcess:
    """One drawing process (:class:`~vae_genomics.commands.drawing_process.DrawingProcess`)."""
    return DrawingProcess()


def finished_run(runs_dir: Path, section: str, run_name: str | None) -> Path | None:
    """The finished run ``<runs_dir>/<section>/<run_name>`` if it exists, else ``None`` (also
    when its model file is incomplete: :func:`damaged_run`)."""
    if not run_name or run_name == LATEST:
        return None
    path = Path(runs_dir) / section / run_name
    if not (path / METRICS_FILE).is_file() or damaged_run(runs_dir, section, run_name):
        return None
    return resolve_run_dir(path)


def damaged_run(runs_dir: Path, section: str, run_name: str | None) -> str | None:
    """What is wrong with the model of a run ``<runs_dir>/<section>/<run_name>`` that looks
    finished (it has ``metrics.json``), or ``None`` (no such run, or its model is complete)."""
    if not run_name or run_name == LATEST:
        return None
    path = Path(runs_dir) / section / run_name
    if not (path / METRICS_FILE).is_file():
        return None
    problem = model_file_problem(path / MODEL_FILE)
    return None if problem is None else f"{path / MODEL_FILE} {problem}"


def _existing_run(runs_dir: Path, section: str, run_name: str) -> tuple[Path | None, bool]:
    """``--skip-existing``: the finished run to keep (or ``None``), and whether a run of that name
    with a damaged model is to be replaced by training the section again."""
    damaged = damaged_run(runs_dir, section, run_name)
    if damaged:
        log.warning(
            "section %s: %s, so the run is not finished; training it again (--skip-existing; the "
            "damaged run is replaced)", section, damaged,
        )  # fmt: skip
        return None, True
    done = finished_run(runs_dir, section, run_name)
    if done is not None:
        log.info("section %s: finished run %s kept (--skip-existing)", section, done)
    return done, False


def train_sections(
    sections: Sequence[str],
    prepare: Callable[[str], tuple[Any, Any]],
    run_name: str | None,
    *,
    overwrite: bool = False,
    resume: bool = False,
    skip_existing: bool = False,
    origins: Callable[[str], dict[str, str]] | None = None,
    command: str = "",
    background: bool = True,
) -> BatchResult:
    """Train ``sections`` one after the other in this process.

    Args:
        sections: Section names, trained in this order.
        prepare: Section name → (resolved config, section data), e.g. ``training.prepare``.
        run_name: Run directory name of every section (default: one timestamp for all).
        overwrite: Replace finished runs of that name.
        resume: Continue interrupted runs of that name from their checkpoints.
        skip_existing: Leave a section whose finished run of ``run_name`` exists as it is; a run
            whose ``model.keras`` is incomplete is not finished: it is trained again and replaced.
        origins: Section name → where settings came from (see ``section_run.train_section``).
        command: The command line, shown in each report's header.
        background: Draw each report in a drawing process while the next section trains (off:
            draw it here, before the next section starts).

    Returns:
        What was trained, skipped and failed.
    """
    from vae_genomics.run.directory import default_run_name

    run_name = run_name or default_run_name()
    result = BatchResult()
    pool = _drawing_pool() if background and len(sections) > 1 else None
    quiet = _NoRetracingWarning()
    logging.getLogger("tensorflow").addFilter(quiet)
    pending: list[_Pending] = []
    try:
        for i, name in enumerate(sections, 1):
            log.info("section %d of %d: %s", i, len(sections), name)
            started = time.perf_counter()
            staged = _stage(
                name, prepare, run_name, result, overwrite=overwrite, resume=resume,
                skip_existing=skip_existing, origins=origins, command=command,
            )  # fmt: skip
            if staged is None:
                continue
            pending.append(_Pending(staged, _submit_report(staged, pool), started))
            _settle(pending, result, block=False, pool=pool)
        _settle(pending, result, block=True, pool=pool)
    finally:
        _abandon(pending, result, pool)
        logging.getLogger("tensorflow").removeFilter(quiet)
    return result


def _stage(
    name: str,
    prepare: Callable[[str], tuple[Any, Any]],
    run_name: str,
    result: BatchResult,
    *,
    overwrite: bool,
    resume: bool,
    skip_existing: bool,
    origins: Callable[[str], dict[str, str]] | None,
    command: str,
) -> Any | None:
    """Load and train one section, leaving its run staged for its report (``stage_section``).

    Args:
        name: Section name.
        prepare: Section name → (resolved config, section data).
        run_name: Run directory name.
        result: The batch's result: a skipped or failed section is entered in it.
        overwrite: Replace a finished run of that name.
        resume: Continue an interrupted run of that name from its checkpoint.
        skip_existing: Keep a finished run of that name (:func:`_existing_run`).
        origins: Section name → where settings came from, or None.
        command: The command line, shown in the report's header.

    Returns:
        The staged section, or None when it was skipped or failed.
    """
    from vae_genomics.commands.train_section import RunTarget, stage_section

    try:
        config, data = prepare(name)
        replace = False
        if skip_existing:
            done, replace = _existing_run(config.runs_dir, name, run_name)
            if done is not None:
                result.skipped[name] = done
                return None
        target = RunTarget(
            run_name=run_name, overwrite=overwrite or replace, resume=resume,
            origins=origins(name) if origins else None, command=command,
        )  # fmt: skip
        return stage_section(config, data, target)
    except VaeGenomicsError as exc:
        _fail(result, name, str(exc))
        return None


def _submit_report(staged: Any, pool: DrawingProcess | None) -> Future[Path]:
    """Draw a staged section's report: in the drawing process, or here (no ``pool``).

    Args:
        staged: The staged section.
        pool: The drawing process, or None.

    Returns:
        The report's future (already done without ``pool``, with the drawing's error if any).
    """
    if pool is None:
        future: Future[Path] = Future()
        try:
            future.set_result(draw_report(staged.report))
        except Exception as exc:
            future.set_exception(exc)
        return future
    arguments = dict(staged.report)
    # the mixture holds sampler code that imports TensorFlow; the report does not use it
    arguments["evaluation"] = dataclasses.replace(arguments["evaluation"], gmm=None)
    return pool.submit(draw_report, arguments)


def _settle(
    pending: list[_Pending], result: BatchResult, block: bool, pool: DrawingProcess | None = None
) -> None:
    """Commit every staged section whose report is drawn (all of them when ``block``).

    A report lost with the drawing process (killed, out of memory, or dead before the report
    reached it) is handed once to a new process (``pool``); lost again, its section fails.

    Args:
        pending: Staged sections waiting for their reports; the settled ones are removed.
        result: The batch's result: each settled section is entered as trained or failed.
        block: Wait for the reports not drawn yet.
        pool: The drawing process that redraws a lost report, or None (no redrawing).
    """
    from vae_genomics.commands.train_section import finish_section

    while True:
        redrawn = False
        for item in list(pending):
            if not block and not item.future.done():
                continue
            if _redraw(item, pool):
                redrawn = True
                continue
            pending.remove(item)
            try:
                with item.staged.staging.discard_on_error():
                    item.future.result()
                run = finish_section(item.staged)
                result.trained[item.staged.section] = run.run_dir
            except VaeGenomicsError as exc:
                _fail(result, item.staged.section, str(exc))
            except BrokenProcessPool:
                _fail(result, item.staged.section, DIED)
            except Exception as exc:  # a drawing error: this section fails, the others go on
                _fail(result, item.staged.section, f"{type(exc).__name__}: {exc}")
            result.seconds[item.staged.section] = round(time.perf_counter() - item.started, 2)
        if not (block and redrawn):
            return


def _redraw(item: _Pending, pool: DrawingProcess | None) -> bool:
    """Hand a report lost with the drawing process to a new one, once; whether it was."""
    if pool is None or item.redrawn or item.future.cancelled():
        return False
    if not isinstance(item.future.exception(), BrokenProcessPool):
        return False
    log.warning(
        "section %s: its report was lost with the drawing process; drawing it again in a new one",
        item.staged.section,
    )
    item.future, item.redrawn = _submit_report(item.staged, pool), True
    return True


def _abandon(
    pending: list[_Pending],
    result: BatchResult,
    pool: DrawingProcess | None,
) -> None:
    """End the batch: after an interruption commit what is drawn, stop the drawing process without
    waiting for the report it holds, and discard the other staged runs (each keeps its
    checkpoint); then shut the drawing process down.

    Args:
        pending: Staged sections not settled yet (empty after a complete batch).
        result: The batch's result.
        pool: The drawing process, or None.
    """
    if pending:  # interrupted: commit what is drawn; the rest keeps its checkpoint
        _settle(pending, result, block=False)
        if pending and pool is not None:
            pool.stop()  # before the staging directories it may be writing go
    for item in pending:
        item.future.cancel()
        try:
            with item.staged.staging.discard_on_error():
                raise RunError(f"section {item.staged.section}: interrupted before its report")
        except RunError:
            pass
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _fail(result: BatchResult, name: str, message: str) -> None:
    log.error("section %s failed: %s", name, message)
    result.failed[name] = message
