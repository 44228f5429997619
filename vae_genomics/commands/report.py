"""``vae-genomics report RUN``: re-evaluate a finished run and re-draw its report."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
from pathlib import Path

import pandas as pd

from vae_genomics.commands.options import config_overrides, configured_sections, start_tensorflow
from vae_genomics.common.errors import RunError
from vae_genomics.common.io import to_jsonable, write_json
from vae_genomics.run.directory import (
    HISTORY_FILE,
    METRICS_FILE,
    REPORT_DIR,
    damaged,
    fresh_staging,
    read_json,
    remove_dir,
)

log = logging.getLogger(__name__)

#: Where ``report`` writes a run's new metrics and report before renaming them into place.
STAGING_DIR = ".report.partial"


def report_run(run_dir: str | Path, command: str = "") -> Path:
    """Re-compute the evaluation and re-draw the report of a finished run.

    The evaluation is seeded by the run's config, so the sets, their numbers and verdicts are those
    training wrote (only the Monte Carlo held-out -ELBO, which draws with the model's own Keras
    noise, can differ in the last digits). They are written back into ``metrics.json`` (its
    ``heldout``, ``active_units``, ``activity`` and ``evaluation`` entries), which also brings a run
    from an older version up to date; what only training knew (epochs, seconds, divergence) stays.

    Args:
        run_dir: A run directory, or a section directory (its ``latest`` run).
        command: The command line, shown in the report's header.

    Returns:
        Path of the written ``report/index.html``.
    """
    from vae_genomics.report.build import write_section_report
    from vae_genomics.run.load import load_run
    from vae_genomics.run.outputs import evaluate_section, run_metrics, run_report_arguments

    run = load_run(run_dir)
    config, data, x = run.config, run.data, run.data.matrix.haplotypes
    x_train, x_val = x[run.train_rows], x[run.val_rows]
    evaluation = evaluate_section(config, data, run.model, x_train, x_val, run.val_rows)
    try:
        history_table = pd.read_csv(run.run_dir / HISTORY_FILE, encoding="utf-8")
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise damaged(run.run_dir / HISTORY_FILE, exc) from None
    history = {c: history_table[c].tolist() for c in history_table.columns if c != "epoch"}
    metrics_path = run.run_dir / METRICS_FILE
    previous = read_json(metrics_path) if metrics_path.is_file() else {}
    fresh = run_metrics(
        run.model, data, x_train, x_val, history,
        previous.get("best_epoch", len(history.get("loss", []))),
        previous.get("train_seconds", float("nan")), evaluation,
    )  # fmt: skip
    # keep what only training knew (e.g. divergence); replace the evaluated numbers
    evaluated = ("heldout", "active_units", "activity", "evaluation")
    metrics = {**fresh, **previous, **{k: fresh[k] for k in evaluated}}
    groups = None
    if run.superpopulations is not None and data.populations is not None:
        groups = dict(zip(map(str, data.populations), map(str, run.superpopulations), strict=True))
    # metrics.json and the report are replaced together or not at all: both are written into a
    # staging directory first (where a full disk fails), then renamed into place
    staging = fresh_staging(run.run_dir / STAGING_DIR)  # never a link out of the run
    try:
        write_json(staging / METRICS_FILE, to_jsonable(metrics))
        page = write_section_report(
            **run_report_arguments(
                run.run_dir, data.section.name, run.run_dir.name, config, evaluation, history,
                metrics, positions=data.matrix.positions, groups=groups, command=command,
                report_dir=staging / REPORT_DIR,
            )
            | {"figures": True}  # re-drawing a report draws its figures, whatever training skipped
        )  # fmt: skip
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report, old = run.run_dir / REPORT_DIR, run.run_dir / f".{REPORT_DIR}.old"
    remove_dir(old)
    if report.exists() or report.is_symlink():
        os.replace(report, old)
    os.replace(staging / REPORT_DIR, report)
    os.replace(staging / METRICS_FILE, metrics_path)
    remove_dir(old)
    shutil.rmtree(staging, ignore_errors=True)
    return report / page.name


def run_command(args: argparse.Namespace) -> None:
    if args.index is not None:
        from vae_genomics.config import load_config
        from vae_genomics.report.index import write_index

        config = load_config(args.config, overrides=config_overrides(args))
        # without --config the default configuration's data (the bundled example) has nothing
        # to say about these runs' untrained sections
        configured = configured_sections(config) if args.config is not None else []
        command = " ".join(["vae-genomics", *args.argv])
        path = write_index(args.index, config.report.reconstruction, configured, command=command)
        print(f"index:  {path}")
        if args.run is None:
            return
    if args.run is None:
        raise RunError("give a run directory (RUN) or --index RUNS_DIR; see vae-genomics report -h")
    from vae_genomics.run.directory import resolve_run_dir

    resolve_run_dir(args.run)  # not a run: said before TensorFlow starts
    start_tensorflow(args, args.threads or 0)
    from vae_genomics.commands.report import report_run

    print(f"report: {report_run(args.run, command=' '.join(['vae-genomics', *args.argv]))}")
