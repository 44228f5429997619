"""KL-weight sweep per section: train a grid of points, compare them held out, recommend a β.

Each point is an ordinary run (same section, seed and split; only ``objective.kl_weight`` and,
when asked, ``objective.reencode.weight`` differ) in ``<runs_dir>/<section>/sweeps/<name>/<point>/``.
A finished point whose resolved configuration equals the one the sweep would train is reused, so an
interrupted sweep resumes where it stopped; a point whose configuration changed is retrained.

The recommendation rule and the write-back of the recommended β to the section's config file are in
:mod:`~vae_genomics.commands.sweep_recommend`.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from vae_genomics.commands.options import check_data_input, config_overrides, start_tensorflow
from vae_genomics.commands.sweep_recommend import recommend, write_recommendation
from vae_genomics.common.children import spawn_pool
from vae_genomics.common.errors import ConfigError
from vae_genomics.common.io import atomic_write_text, to_jsonable, write_json
from vae_genomics.config import Config, deep_merge, read_yaml
from vae_genomics.run.directory import CONFIG_FILE, METRICS_FILE, read_json

log = logging.getLogger(__name__)

DEFAULT_BETAS = (0.03, 0.1, 0.3, 1.0, 3.0)
RESULTS_FILE = "results.csv"
RECOMMENDATION_FILE = "recommendation.json"


@dataclass(frozen=True)
class SweepPoint:
    """One point of the grid."""

    beta: float
    reencode_weight: float | None = None

    @property
    def name(self) -> str:
        """Directory name, e.g. ``beta-0.3`` or ``beta-0.3_reencode-1``."""
        name = f"beta-{self.beta:g}"
        return name if self.reencode_weight is None else f"{name}_reencode-{self.reencode_weight:g}"

    def apply(self, config: Config) -> Config:
        """The configuration of this point."""
        objective: dict[str, Any] = {"kl_weight": self.beta}
        if self.reencode_weight is not None:
            objective["reencode"] = {"weight": self.reencode_weight}
        return Config.model_validate(deep_merge(config.to_dict(), {"objective": objective}))


def grid(
    betas: Sequence[float], reencode_weights: Sequence[float] | None = None
) -> list[SweepPoint]:
    """All (β, λ_re) combinations, in the given order."""
    if not betas:
        raise ConfigError("the sweep needs at least one KL weight (--betas)")
    if any(b < 0 for b in betas):
        raise ConfigError(f"KL weights must be >= 0, got {list(betas)}")
    weights: Sequence[float | None] = reencode_weights or [None]
    return [SweepPoint(float(b), None if w is None else float(w)) for b in betas for w in weights]


def is_finished(run_dir: Path, config: Config) -> bool:
    """Whether ``run_dir`` is a finished run trained with exactly ``config``."""
    if not (run_dir / METRICS_FILE).is_file() or not (run_dir / CONFIG_FILE).is_file():
        return False
    saved, wanted = read_yaml(run_dir / CONFIG_FILE), config.to_dict()
    saved.pop("resolved", None)
    for raw in (saved, wanted):  # where the data is read from and on how many threads: not what
        raw.get("data", {}).pop("cache", None)
        raw.get("runtime", {}).pop("threads", None)
    return saved == wanted


def _train_point(config_dict: dict[str, Any], section: str, parent: str, run_name: str) -> str:
    """Worker: train one point (runs in a separate process when ``jobs > 1``)."""
    from vae_genomics.commands.train_section import RunTarget, train_section
    from vae_genomics.data import load_section

    config = Config.model_validate(config_dict)
    target = RunTarget(run_name, overwrite=True, parent=Path(parent),
                       origins={"objective.kl_weight": "sweep point"})  # fmt: skip
    train_section(config, load_section(config.data, section), target)
    return run_name


def _init_worker(threads: int) -> None:
    """Share the cores between parallel points instead of oversubscribing them."""
    from vae_genomics.train.threads import limit_threads

    limit_threads(threads)


def run_points(
    base: Config, section: str, points: list[SweepPoint], sweep_dir: Path, jobs: int = 1
) -> dict[str, Path]:
    """Train the points that are not finished yet; return every point's run directory.

    Args:
        base: Configuration of the section (the points override the KL and re-encoding weights).
        section: Section name.
        points: The grid.
        sweep_dir: Directory holding the points' runs.
        jobs: Points trained at the same time (separate processes).
    """
    todo = []
    for point in points:
        config, run_dir = point.apply(base), sweep_dir / point.name
        if is_finished(run_dir, config):
            log.info("point %s: finished earlier, reused", point.name)
        else:
            if run_dir.exists():
                log.info(
                    "point %s: configuration changed since it was trained, retraining", point.name
                )
            todo.append((config.to_dict(), section, str(sweep_dir), point.name))
    jobs = max(1, min(jobs, len(todo)))  # a process (and its share of the cores) per point
    log.info("%d of %d points to train (%d at a time)", len(todo), len(points), jobs)
    if jobs <= 1 or len(todo) <= 1:
        for i, args in enumerate(todo, start=1):
            log.info("training point %d/%d: %s", i, len(todo), args[3])
            _train_point(*args)
    else:
        threads = max(1, (base.runtime.threads or os.cpu_count() or 1) // jobs)
        with spawn_pool(jobs, _init_worker, (threads,)) as pool:  # they end with this process
            futures = [pool.submit(_train_point, *args) for args in todo]
            for i, future in enumerate(futures, start=1):
                log.info("point %d/%d finished: %s", i, len(todo), future.result())
    return {p.name: sweep_dir / p.name for p in points}


def results_table(points: list[SweepPoint], run_dirs: dict[str, Path]) -> pd.DataFrame:
    """One row per point from the runs' ``metrics.json`` (held-out numbers)."""
    rows = []
    for point in points:
        metrics = read_json(run_dirs[point.name] / METRICS_FILE)
        rows.append({"point": point.name, "beta": point.beta,
                     "reencode_weight": point.reencode_weight, **point_row(metrics)})  # fmt: skip
    return pd.DataFrame.from_records(rows)


def point_row(metrics: dict[str, Any]) -> dict[str, Any]:
    """The numbers of one run that the sweep compares (from its ``metrics.json``)."""
    held = metrics["heldout"]
    evaluation = metrics.get("evaluation") or {}
    sets = (evaluation.get("modeseek") or {}).get("sets", {})

    def verdict(name: str) -> str | None:
        return (sets.get(name, {}).get("verdict") or {}).get("verdict")

    def coverage(name: str) -> float | None:
        return (sets.get(name, {}).get("prdc_pca") or {}).get("coverage")

    generated = "generated_samples" if "generated_samples" in sets else "gmm_samples"

    return {
        "rate": held["kl"],
        "distortion": held["reconstruction"],
        "neg_elbo": held["neg_elbo"],
        "iw_nll": (evaluation.get("iw_nll") or {}).get("nll"),
        "active_units": metrics["active_units"],
        "latent_dim": metrics["latent_dim"],
        "mi": (evaluation.get("mutual_information") or {}).get("mi"),
        "coverage_reconstruction": coverage("reconstruction_samples"),
        "coverage_generated": coverage(generated),
        "verdict_reconstruction": verdict("reconstruction_samples"),
        "verdict_generated": verdict(generated),
        "diverged": bool(metrics.get("diverged")),
    }


def sweep_summary(
    table: pd.DataFrame, best: int | None, reasons: dict[str, str], sweep_dir: Path
) -> dict[str, Any]:
    """JSON-ready record of the recommendation."""
    return {
        "recommended": None if best is None else table.loc[best].to_dict(),
        "reasons": reasons,
        "best_neg_elbo_point": table.loc[table["neg_elbo"].idxmin(), "point"],
        "sweep_dir": str(sweep_dir),
    }


def save_results(table: pd.DataFrame, summary: dict[str, Any], sweep_dir: Path) -> None:
    """Write ``results.csv`` and ``recommendation.json``.

    Both are derived from the points' runs, so a sweep run again replaces them (atomically); a
    symbolic link at their place is refused, never written through or replaced.
    """
    table = table.assign(reason=table["point"].map(summary["reasons"]))
    csv = table.to_csv(index=False, float_format="%.6g")
    atomic_write_text(sweep_dir / RESULTS_FILE, csv, refuse_link=True)
    write_json(sweep_dir / RECOMMENDATION_FILE, to_jsonable(summary), refuse_link=True)


@dataclass
class SweepResult:
    """What a sweep produced."""

    sweep_dir: Path
    table: pd.DataFrame
    recommended: int | None
    reasons: dict[str, str]
    report: Path
    written: str | None  # created / replaced / merged, or None when nothing was written


def run_sweep(
    config_path: Path | None,
    section: str | None,
    betas: Sequence[float] = DEFAULT_BETAS,
    reencode_weights: Sequence[float] | None = None,
    jobs: int = 1,
    name: str = "sweep",
    min_active_units: int = 2,
    write: bool = True,
    merge: bool = False,
    overrides: dict[str, Any] | None = None,
) -> SweepResult:
    """Sweep the KL weight of one section, recommend one and write it to the section's config.

    Args:
        config_path: User config (as for ``train``).
        section: Section name (default: the config's default section).
        betas: KL weights to train.
        reencode_weights: Optional re-encoding weights (each combined with every beta).
        jobs: Points trained in parallel.
        name: Sweep directory name under ``<runs_dir>/<section>/sweeps/``.
        min_active_units: Fewest active units a recommended model keeps.
        write: Write the recommendation into ``<sections_dir>/<section>.yaml``.
        merge: Merge into a section file that has user edits (see :func:`write_recommendation`).
        overrides: Command-line config overrides (e.g. epochs).

    Returns:
        The sweep's results and where they are.
    """
    from vae_genomics.report.figures import save_figure
    from vae_genomics.report.html import embed_png
    from vae_genomics.report.rate_distortion import rate_distortion_figure, sweep_page
    from vae_genomics.run.directory import check_run_name
    from vae_genomics.train.fit import prepare

    check_run_name(name, "sweep name")  # before any work: never a path outside the section
    points = grid(betas, reencode_weights)
    base, data = prepare(config_path, section, overrides)
    section_name = data.section.name
    sweep_dir = Path(base.runs_dir) / section_name / "sweeps" / name
    sweep_dir.mkdir(parents=True, exist_ok=True)
    run_dirs = run_points(base, section_name, points, sweep_dir, jobs)
    table = results_table(points, run_dirs)
    best, reasons = recommend(table, min_active_units)
    summary = sweep_summary(table, best, reasons, sweep_dir)
    save_results(table, summary, sweep_dir)

    best_elbo = int(table["neg_elbo"].idxmin())
    title = f"KL-weight sweep · section {section_name}"
    figure = sweep_dir / "rate_distortion.png"
    save_figure(rate_distortion_figure(table, best_elbo, best, title), figure, refuse_link=True)
    written = None
    if best is None:
        note = "No point qualified (see why below): nothing was recommended or written."
    else:
        beta = float(table.at[best, "beta"])
        note = f"Recommended KL weight: {beta:g} (point {table.at[best, 'point']})."
        if write:
            section_file = base.sections_dir / f"{section_name}.yaml"
            provenance = {
                "sweep": str(sweep_dir),
                "held-out -ELBO": f"{table.at[best, 'neg_elbo']:.2f} nats/haplotype",
                "active units": f"{table.at[best, 'active_units']} of {table.at[best, 'latent_dim']}",
                "points": ", ".join(table["point"]),
            }
            written = write_recommendation(section_file, beta, provenance, merge=merge)
            note += f" Written to {section_file} ({written})."
    report = sweep_dir / "index.html"
    page = sweep_page(title, table, reasons, embed_png(figure), note)
    atomic_write_text(report, page, refuse_link=True)
    log.info("%s", note)
    return SweepResult(sweep_dir, table, best, reasons, report, written)


def run_command(args: argparse.Namespace) -> None:
    from vae_genomics.config import load_config

    overrides = config_overrides(args)
    checked = load_config(args.config, section=args.section, overrides=overrides)  # before TF
    from vae_genomics.run.directory import check_run_name

    check_run_name(args.name, "sweep name")
    grid(args.betas or DEFAULT_BETAS, args.reencode_weights)
    check_data_input(checked)
    start_tensorflow(args, checked.runtime.threads)
    result = run_sweep(
        args.config, args.section, betas=args.betas or DEFAULT_BETAS,
        reencode_weights=args.reencode_weights, jobs=args.jobs, name=args.name,
        min_active_units=args.min_active_units, write=not args.no_write, merge=args.merge,
        overrides=overrides,
    )  # fmt: skip
    print(f"sweep:  {result.sweep_dir}")
    print(f"report: {result.report}")
    if result.recommended is not None:
        print(f"recommended kl_weight: {result.table.at[result.recommended, 'beta']:g}")
